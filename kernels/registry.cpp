//===- registry.cpp - the list of built-in variants -----------------------===//

#include "flashjit/kernels.h"
#include "kernels/variants.h"

using namespace flashjit;

const std::vector<BuiltinVariant> &flashjit::builtinVariants() {
  static const std::vector<BuiltinVariant> variants = {
      {"full", "no mask, no modification", kernels::full},
      {"causal", "causal mask aligned top-left: kv <= q", kernels::causal},
      {"causal_bottom_right",
       "causal mask aligned bottom-right: kv <= q + (len_kv - len_q)",
       kernels::causalBottomRight},
      {"sliding_window",
       "causal, and fewer than `window` keys back: 0 <= q - kv < window",
       kernels::slidingWindow},
      {"alibi", "ALiBi: s + slopes[head] * (kv - q)", kernels::alibi},
      {"softcap", "tanh soft-capping: softcap * tanh(s / softcap)",
       kernels::softcap},
      {"prefix_lm",
       "prefix LM: the first `prefix` keys are visible to all, then causal",
       kernels::prefixLm},
      {"document",
       "packed sequences: a token sees the tokens of its own document",
       kernels::document},
      {"relative_bias",
       "learned relative-position bias per head, clamped to +-max_distance",
       kernels::relativeBias},
      {"dropout", "full attention with dropout 0.1", kernels::dropout},
      {"causal_window_alibi_dropout",
       "causal sliding window with ALiBi and dropout 0.1",
       kernels::causalWindowAlibiDropout},
  };
  return variants;
}

Expected<Program> flashjit::builtinVariant(std::string_view name) {
  std::string known;
  for (const BuiltinVariant &variant : builtinVariants()) {
    if (variant.name == name)
      return variant.build();
    known += (known.empty() ? "" : ", ") + variant.name;
  }
  return Error("unknown variant '" + std::string(name) +
               "'; built-in: " + known);
}
