#include "kernels/variants.h"

using namespace flashjit;
using namespace flashjit::dsl;

// Several sequences packed into one: doc_ids[batch, token] names the
// document of each token, and a token attends within its document only.
Expected<Program> kernels::document() {
  return attention(
      "document", {.maskMod = [](Builder &b) {
        Buffer doc = b.buffer("doc_ids", {"batch", "token"}, ScalarType::i32);
        return doc(b.batch(), b.qIdx()) == doc(b.batch(), b.kvIdx());
      }});
}
