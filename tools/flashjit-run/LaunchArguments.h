//===- LaunchArguments.h - --param and --buffer of flashjit-run -*- C++ -*-===//
//
//   --param NAME=VALUE    typed as the program declares NAME (f32 or i32)
//   --buffer NAME=SPEC    SPEC: [SHAPE:]VALUES with SHAPE N or ROWSxCOLS and
//                         VALUES a comma-separated list of numbers, @FILE
//                         (whitespace-separated numbers), randn (f32
//                         buffers) or randint:LO:HI (LO..HI inclusive)
//
// A buffer's shape comes from its declared dimensions resolved against the
// run (batch B, head Hq, q Nq, kv Nkv, token max(Nq, Nkv), a fixed extent);
// a `?` takes what the number of values leaves or the SHAPE prefix.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TOOLS_FLASHJIT_RUN_LAUNCHARGUMENTS_H
#define FLASHJIT_TOOLS_FLASHJIT_RUN_LAUNCHARGUMENTS_H

#include "tools/reference/Reference.h"

#include <map>
#include <string>
#include <vector>

namespace flashjit::run {

/// Parses each NAME=VALUE against the parameters `program` declares: every
/// one given once, no other.
Expected<std::map<std::string, reference::ParamValue>>
parseParams(const std::vector<std::string> &given, const Program &program);

/// Parses each NAME=SPEC against the buffers `program` declares, every one
/// given once, no other; random fills draw from `seed`.
Expected<std::map<std::string, reference::HostBuffer>>
parseBuffers(const std::vector<std::string> &given, const Program &program,
             const reference::ProblemShape &shape, unsigned seed);

} // namespace flashjit::run

#endif // FLASHJIT_TOOLS_FLASHJIT_RUN_LAUNCHARGUMENTS_H
