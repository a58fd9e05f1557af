# Install rules and the CMake package: find_package(flashjit CONFIG) gives
# flashjit::flashjit, the shared library with its public headers; a
# pkg-config file serves C users.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FLASHJIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/flashjit)

# Components: `library` (what a consumer needs) and `tools`.
install(TARGETS flashjit EXPORT flashjitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/flashjit
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT library
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/flashjit/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flashjit COMPONENT library)
install(EXPORT flashjitTargets NAMESPACE flashjit::
  DESTINATION ${FLASHJIT_CMAKE_DIR} COMPONENT library)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/flashjitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/flashjitConfig.cmake
  INSTALL_DESTINATION ${FLASHJIT_CMAKE_DIR})
# 0.x: a minor version may change the ABI (the SONAME carries it too).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/flashjitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/flashjitConfig.cmake
  ${PROJECT_BINARY_DIR}/flashjitConfigVersion.cmake
  DESTINATION ${FLASHJIT_CMAKE_DIR} COMPONENT library)

# pkg-config wants paths relative to ${prefix} where it can have them, and
# the prefix relative to the .pc file so that `cmake --install --prefix`
# anywhere gives a file that works.
file(RELATIVE_PATH FLASHJIT_PC_UP
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" FLASHJIT_PC_UP "${FLASHJIT_PC_UP}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(FLASHJIT_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(FLASHJIT_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/flashjit.pc.in
  ${PROJECT_BINARY_DIR}/flashjit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/flashjit.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT library)

if(FLASHJIT_BUILD_TOOLS)
  # The tools link the compiler statically and find LLVM's and MLIR's
  # shared libraries (FLASHJIT_LINK_DYLIB) where they were linked from.
  set_target_properties(flashjit-ptx flashjit-run PROPERTIES
    INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS flashjit-ptx flashjit-run
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()
