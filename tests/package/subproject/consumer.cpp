// Links flashjit::flashjit from a subdirectory build.
#include "flashjit/flashjit.h"

#include <cstdio>

int main() { std::puts(flashjit::version()); }
