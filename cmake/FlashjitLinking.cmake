# How flashjit links MLIR and LLVM.
#
# The tools and tests link MLIR's and LLVM's shared libraries when
# FLASHJIT_LINK_DYLIB is ON (fast links). libflashjit.so always carries its
# own static copy of both, private to it: a consumer needs neither, and a
# process may hold other copies of LLVM (Triton's, in a PyTorch process).
# Mixing the two is what broke the first call of the old libflashjit.so:
# its private copies of MLIR's trait TypeIDs did not match libMLIR.so's.

include_guard(GLOBAL)

# LLVM's static component archives and the system libraries they need.
# `all` names components Debian does not ship as archives (Polly); the
# linker takes only the objects it needs from the group.
execute_process(
  COMMAND ${LLVM_TOOLS_BINARY_DIR}/llvm-config --link-static --libfiles all
  OUTPUT_VARIABLE FLASHJIT_LLVM_ARCHIVES OUTPUT_STRIP_TRAILING_WHITESPACE)
separate_arguments(FLASHJIT_LLVM_ARCHIVES)
list(FILTER FLASHJIT_LLVM_ARCHIVES EXCLUDE REGEX "Polly")
foreach(archive IN LISTS FLASHJIT_LLVM_ARCHIVES)
  if(NOT EXISTS "${archive}")
    list(REMOVE_ITEM FLASHJIT_LLVM_ARCHIVES "${archive}")
  endif()
endforeach()
# Not llvm-config's --system-libs: it names libz3 and libxml2 for components
# flashjit never uses.
set(FLASHJIT_LLVM_SYSTEM_LIBS -Wl,--as-needed -lz -lzstd -lrt -ldl -lm
    -lpthread -Wl,--no-as-needed)

# mlir_target_link_libraries, remembering the MLIR components `target`
# uses: with FLASHJIT_LINK_DYLIB it links only libMLIR.so, and
# flashjit_add_shared_library needs the components' archives.
function(flashjit_link_mlir target scope)
  mlir_target_link_libraries(${target} ${scope} ${ARGN})
  set_property(TARGET ${target} APPEND PROPERTY FLASHJIT_MLIR_COMPONENTS ${ARGN})
endfunction()

# Collects into the global properties FLASHJIT_CLOSURE_ARCHIVES and
# FLASHJIT_CLOSURE_SYSTEM_LIBS the static archives `item` needs, depth
# first: flashjit's own libraries and the MLIR components they use. LLVM
# and libMLIR.so are left out (the caller adds LLVM's archives whole).
function(_flashjit_static_closure item)
  if(item MATCHES "^\\$<LINK_ONLY:(.*)>$")
    set(item ${CMAKE_MATCH_1})
  endif()
  if(item STREQUAL "LLVM" OR item STREQUAL "MLIR" OR item MATCHES "^-Wl,")
    return()
  endif()
  get_property(seen GLOBAL PROPERTY _FLASHJIT_CLOSURE_SEEN)
  if(item IN_LIST seen)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY _FLASHJIT_CLOSURE_SEEN ${item})
  if(NOT TARGET ${item})
    set_property(GLOBAL APPEND PROPERTY FLASHJIT_CLOSURE_SYSTEM_LIBS ${item})
    return()
  endif()
  get_target_property(type ${item} TYPE)
  get_target_property(imported ${item} IMPORTED)
  set(deps)
  if(imported OR type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(deps ${item} INTERFACE_LINK_LIBRARIES)
  else()
    get_target_property(deps ${item} LINK_LIBRARIES)
    get_target_property(components ${item} FLASHJIT_MLIR_COMPONENTS)
    if(components)
      list(APPEND deps ${components})
    endif()
  endif()
  if(type STREQUAL "STATIC_LIBRARY")
    set_property(GLOBAL APPEND PROPERTY FLASHJIT_CLOSURE_ARCHIVES
                 "$<TARGET_FILE:${item}>")
    if(NOT imported)
      set_property(GLOBAL APPEND PROPERTY FLASHJIT_CLOSURE_TARGETS ${item})
    endif()
  endif()
  foreach(dep IN LISTS deps)
    if(dep)
      _flashjit_static_closure(${dep})
    endif()
  endforeach()
endfunction()

# A shared library made of every object of the `WHOLE` libraries (their
# public symbols are its interface) and, privately, whatever those need of
# flashjit, MLIR and LLVM, statically. `VERSION_SCRIPT` says what is
# exported; everything else is local.
function(flashjit_add_shared_library name)
  cmake_parse_arguments(ARG "" "VERSION_SCRIPT" "WHOLE" ${ARGN})
  set_property(GLOBAL PROPERTY _FLASHJIT_CLOSURE_SEEN)
  set_property(GLOBAL PROPERTY FLASHJIT_CLOSURE_ARCHIVES)
  set_property(GLOBAL PROPERTY FLASHJIT_CLOSURE_TARGETS)
  set_property(GLOBAL PROPERTY FLASHJIT_CLOSURE_SYSTEM_LIBS)
  foreach(lib IN LISTS ARG_WHOLE)
    _flashjit_static_closure(${lib})
  endforeach()
  get_property(archives GLOBAL PROPERTY FLASHJIT_CLOSURE_ARCHIVES)
  get_property(targets GLOBAL PROPERTY FLASHJIT_CLOSURE_TARGETS)
  get_property(system GLOBAL PROPERTY FLASHJIT_CLOSURE_SYSTEM_LIBS)
  set(objects)
  foreach(lib IN LISTS ARG_WHOLE)
    list(APPEND objects "$<TARGET_OBJECTS:${lib}>")
    list(REMOVE_ITEM archives "$<TARGET_FILE:${lib}>")
  endforeach()

  add_library(${name} SHARED ${objects})
  add_dependencies(${name} ${targets})
  target_link_libraries(${name} PRIVATE
    -Wl,--start-group ${archives} ${FLASHJIT_LLVM_ARCHIVES} -Wl,--end-group
    ${system} ${FLASHJIT_LLVM_SYSTEM_LIBS})
  target_link_options(${name} PRIVATE
    -Wl,--version-script=${ARG_VERSION_SCRIPT} -Wl,--no-undefined
    -Wl,--gc-sections)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS ${ARG_VERSION_SCRIPT})
endfunction()
