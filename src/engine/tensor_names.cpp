#include "engine/tensor_names.h"

#include "util/error.h"

namespace hearth::engine {

TensorNames detect_tensor_names(const WeightFiles& files) {
  struct Candidate {
    const char* prefix;
    NamingScheme scheme;
  };
  // A text-only "model." prefix is ambiguous between the schemes; the file metadata and the layout
  // of the tensors themselves (conv1d, experts) tell them apart where it matters.
  const Candidate candidates[] = {
      {"model.language_model.", NamingScheme::hugging_face},
      {"language_model.model.", NamingScheme::mlx},
      {"model.", NamingScheme::hugging_face},
  };
  for (const auto& c : candidates) {
    if (!files.contains(std::string(c.prefix) + "embed_tokens.weight")) continue;
    TensorNames n;
    n.model_prefix = c.prefix;
    n.scheme = c.scheme;
    if (files.format() == "mlx") n.scheme = NamingScheme::mlx;
    if (files.contains("lm_head.weight")) n.lm_head = "lm_head";
    else if (files.contains("language_model.lm_head.weight")) n.lm_head = "language_model.lm_head";
    else n.lm_head = n.scheme == NamingScheme::mlx && n.model_prefix == "language_model.model." ? "language_model.lm_head" : "lm_head";
    return n;
  }
  throw Error(files.dir().string() +
                  ": no token embedding found (looked for model.language_model.embed_tokens.weight, "
                  "language_model.model.embed_tokens.weight, model.embed_tokens.weight)",
              ErrorKind::io);
}

}  // namespace hearth::engine
