#!/usr/bin/env python3
"""Builds tiny random Qwen3.5 / Qwen3.5-MoE (and Qwen3 / Qwen3-MoE) models in every weight layout hearth
reads, plus reference logits from Hugging Face transformers, for the engine's correctness tests.

    python3 make_tiny_models.py --out DIR            # needs torch + transformers (5.x with qwen3_5)
    python3 make_tiny_models.py --out DIR --dry-run  # no torch: writes weights and configs only

Per model directory: config.json, safetensors weights (HF or MLX layout), and unless --dry-run
reference.json + reference.bin (float32 little-endian logits; offsets in reference.json).

Every weight is rounded to bfloat16 before anything else, so the bf16 files hold the exact values the
reference ran with. Quantized (MLX) variants are packed here with MLX's exact layout
(shared/reference/mlx-formats.md) and their reference runs on the DEQUANTISED weights, computed in
float32 exactly as hearth decodes them. The reference runs on the CPU in float32.
"""
import argparse
import json
import os
import sys
import traceback

import numpy as np

from mlx_pack import (bf16_bits, bf16_round, from_bf16_bits, pack_codes, quantize, unpack_codes,
                      write_safetensors)

VOCAB = 512
PROMPT_LEN = 200
PREFILL_LENGTHS = [1, 7, 64, 200]
DECODE_PROMPT = 64
DECODE_STEPS = 32
HIDDEN_DUMP_TOKENS = 7

# ---------------------------------------------------------------------------------------------------
# Architectures (text configs in the form a real config.json carries them)


# Fields the dense and MoE Qwen3.5 tiny configs share (the real models' settings, at tiny widths).
QWEN35_SHARED_TEXT_FIELDS = {
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "attention_bias": False,
    "attn_output_gate": True,
    "tie_word_embeddings": False,
    "max_position_embeddings": 4096,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 10000000.0,
        "partial_rotary_factor": 0.25,
        "mrope_section": [2, 1, 1],
        "mrope_interleaved": True,
    },
    "partial_rotary_factor": 0.25,
    "eos_token_id": 5,
}


def qwen35_dense_text_config():
    return {
        "model_type": "qwen3_5_text",
        "vocab_size": VOCAB,
        "hidden_size": 128,
        "intermediate_size": 128,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": 32,
        "linear_value_head_dim": 32,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "layer_types": ["linear_attention", "full_attention", "linear_attention", "full_attention"],
        "full_attention_interval": 2,
        **QWEN35_SHARED_TEXT_FIELDS,
    }


def qwen35_moe_text_config():
    return {
        "model_type": "qwen3_5_moe_text",
        "vocab_size": VOCAB,
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": 16,
        "linear_value_head_dim": 16,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "layer_types": ["linear_attention", "linear_attention", "full_attention", "full_attention"],
        "num_experts": 8,
        "num_experts_per_tok": 3,
        "moe_intermediate_size": 64,
        "shared_expert_intermediate_size": 64,
        **QWEN35_SHARED_TEXT_FIELDS,
    }


def qwen3_dense_config():
    return {
        "model_type": "qwen3",
        "architectures": ["Qwen3ForCausalLM"],
        "vocab_size": VOCAB,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "attention_bias": False,
        "tie_word_embeddings": False,
        "max_position_embeddings": 4096,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
        "eos_token_id": 5,
    }


def qwen3_moe_config():
    return {
        "model_type": "qwen3_moe",
        "architectures": ["Qwen3MoeForCausalLM"],
        "vocab_size": VOCAB,
        "hidden_size": 64,
        "intermediate_size": 128,
        "moe_intermediate_size": 32,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "norm_topk_prob": True,
        "decoder_sparse_step": 1,
        "mlp_only_layers": [],
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "attention_bias": False,
        "tie_word_embeddings": False,
        "max_position_embeddings": 4096,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
        "eos_token_id": 5,
    }


ARCHES = {
    # name: (text config builder, wrapper model_type or None, wrapper architecture, zero-centred norms)
    "dense": (qwen35_dense_text_config, "qwen3_5", "Qwen3_5ForConditionalGeneration", True),
    "moe": (qwen35_moe_text_config, "qwen3_5_moe", "Qwen3_5MoeForConditionalGeneration", True),
    "qwen3": (qwen3_dense_config, None, None, False),
    "qwen3moe": (qwen3_moe_config, None, None, False),
}

# Variants: (directory name, arch, layout, quantization or None)
#   quantization: dict(mode, bits, group_size, overrides={module suffix: dict or False})
VARIANTS = [
    ("dense-hf-bf16", "dense", "hf", None),
    ("moe-hf-bf16-sharded", "moe", "hf-sharded", None),
    ("dense-mlx-affine4-g64", "dense", "mlx", dict(mode="affine", bits=4, group_size=64)),
    ("dense-mlx-affine8-g32", "dense", "mlx", dict(mode="affine", bits=8, group_size=32)),
    ("dense-mlx-affine4-g128-overrides", "dense", "mlx",
     dict(mode="affine", bits=4, group_size=128,
          overrides={"layers.0.mlp.down_proj": {"group_size": 64, "bits": 8},
                     "layers.1.self_attn.o_proj": False})),
    ("dense-mlx-nvfp4", "dense", "mlx", dict(mode="nvfp4", bits=4, group_size=16)),
    ("moe-mlx-affine4-g64", "moe", "mlx",
     dict(mode="affine", bits=4, group_size=64, gates_override={"group_size": 64, "bits": 8})),
    ("moe-mlx-mxfp4", "moe", "mlx",
     dict(mode="mxfp4", bits=4, group_size=32,
          gates_override={"group_size": 64, "bits": 8, "mode": "affine"})),
    ("moe-mlx-nvfp4", "moe", "mlx",
     dict(mode="nvfp4", bits=4, group_size=16, gates_override={"group_size": 64, "bits": 8})),
    ("qwen3-hf-bf16", "qwen3", "hf", None),
    ("qwen3moe-hf-bf16", "qwen3moe", "hf", None),
]

# ---------------------------------------------------------------------------------------------------
# Random weights (numpy; names and shapes of the transformers text model's state dict)


def init_weight(name, shape, rng, zero_centred):
    if name.endswith("linear_attn.norm.weight"):
        return 1.0 + 0.1 * rng.standard_normal(shape)
    if name.endswith("norm.weight"):
        base = 0.0 if zero_centred else 1.0
        return base + 0.1 * rng.standard_normal(shape)
    if name.endswith("A_log"):
        return np.log(rng.uniform(0.05, 2.0, shape))
    if name.endswith("dt_bias"):
        return 0.5 * rng.standard_normal(shape)
    if name.endswith("conv1d.weight"):
        return 0.5 * rng.standard_normal(shape)
    if name.endswith("embed_tokens.weight"):
        return rng.standard_normal(shape)
    if name.endswith("lm_head.weight"):
        return 2.0 * rng.standard_normal(shape) / np.sqrt(shape[-1])
    if name.endswith("mlp.gate.weight"):  # router: decisive routing keeps top-k away from ties
        return 2.0 * rng.standard_normal(shape) / np.sqrt(shape[-1])
    if len(shape) in (2, 3):
        return rng.standard_normal(shape) / np.sqrt(shape[-1])
    raise ValueError(f"no init rule for {name} {shape}")


def make_weights(shapes, seed, zero_centred):
    rng = np.random.default_rng(seed)
    return {n: bf16_round(init_weight(n, s, rng, zero_centred).astype(np.float32)) for n, s in sorted(shapes.items())}


# ---------------------------------------------------------------------------------------------------
# Layouts


MLX_ONE_PLUS_NORMS = (".input_layernorm.weight", ".post_attention_layernorm.weight", "model.norm.weight",
                      ".q_norm.weight", ".k_norm.weight")


def hf_layout(weights, arch, sharded):
    """Returns list of (filename, {name: (dtype, array)}). Qwen3.5 names: model.language_model.*;
    experts per expert (experts.{e}.gate_proj.weight ...), as Hugging Face originals store them."""
    wrapper = ARCHES[arch][1] is not None
    out = {}
    for name, w in weights.items():
        if wrapper and name.startswith("model."):
            hname = "model.language_model." + name[len("model."):]
        else:
            hname = name
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = hname[: -len("gate_up_proj")]
            inter = w.shape[1] // 2
            for e in range(w.shape[0]):
                out[f"{prefix}{e}.gate_proj.weight"] = ("BF16", bf16_bits(w[e, :inter]))
                out[f"{prefix}{e}.up_proj.weight"] = ("BF16", bf16_bits(w[e, inter:]))
            continue
        if name.endswith("mlp.experts.down_proj"):
            prefix = hname[: -len("down_proj")]
            for e in range(w.shape[0]):
                out[f"{prefix}{e}.down_proj.weight"] = ("BF16", bf16_bits(w[e]))
            continue
        out[hname] = ("BF16", bf16_bits(w))
    if not sharded:
        return [("model.safetensors", out)]
    first, second = {}, {}
    for n, t in out.items():
        # layers 0-1 and the embedding in shard 1, the rest in shard 2
        in_first = "embed_tokens" in n or ".layers.0." in n or ".layers.1." in n
        (first if in_first else second)[n] = t
    return [("model-00001-of-00002.safetensors", first), ("model-00002-of-00002.safetensors", second)]


def quantizable(mlx_name):
    if not mlx_name.endswith(".weight"):
        return False
    for part in ("norm.weight", "conv1d.weight"):
        if mlx_name.endswith(part):
            return False
    return True


def mlx_layout(weights, arch, q):
    """MLX (mlx-vlm style) layout: language_model.model.*, switch_mlp stacked experts, conv1d [C,K,1],
    1+w norms, A_log float32; quantized modules packed. Returns (tensors, effective float32 weights in
    transformers naming for the reference, quantization config)."""
    tensors = {}
    effective = {}
    qconfig = {"group_size": q["group_size"], "bits": q["bits"]}
    if q["mode"] != "affine":
        qconfig["mode"] = q["mode"]
    overrides = {}
    for suffix, value in q.get("overrides", {}).items():
        overrides["language_model.model." + suffix] = value
    if "gates_override" in q:
        for name in weights:
            if name.endswith("mlp.gate.weight") or name.endswith("mlp.shared_expert_gate.weight"):
                module = "language_model." + name[: -len(".weight")]
                overrides[module] = dict(q["gates_override"])
    qconfig.update(overrides)

    def emit_linear(mlx_module, w):
        """Stores a Linear-like weight [.., out, in]; returns the effective float32 weight."""
        ov = overrides.get(mlx_module)
        if ov is False:
            tensors[mlx_module + ".weight"] = ("BF16", bf16_bits(w))
            return w
        if isinstance(ov, dict):
            mode, bits, group = ov.get("mode", "affine"), ov["bits"], ov["group_size"]
        else:
            mode, bits, group = q["mode"], q["bits"], q["group_size"]
        if w.shape[-1] % group != 0:
            tensors[mlx_module + ".weight"] = ("BF16", bf16_bits(w))
            return w
        parts, deq = quantize(w, mode, bits, group)
        for suffix, t in parts.items():
            tensors[f"{mlx_module}.{suffix}"] = t
        return deq

    for name, w in weights.items():
        mname = "language_model." + name  # model.* -> language_model.model.*, lm_head -> language_model.lm_head
        if name.endswith("mlp.experts.gate_up_proj"):
            base = mname[: -len("experts.gate_up_proj")] + "switch_mlp."
            inter = w.shape[1] // 2
            dg = emit_linear(base + "gate_proj", np.ascontiguousarray(w[:, :inter]))
            du = emit_linear(base + "up_proj", np.ascontiguousarray(w[:, inter:]))
            effective[name] = np.concatenate([dg, du], axis=1)
            continue
        if name.endswith("mlp.experts.down_proj"):
            base = mname[: -len("experts.down_proj")] + "switch_mlp."
            effective[name] = emit_linear(base + "down_proj", w)
            continue
        if name.endswith("conv1d.weight"):
            tensors[mname] = ("BF16", bf16_bits(np.ascontiguousarray(np.moveaxis(w, 2, 1))))
            effective[name] = w
            continue
        if any(name.endswith(s) for s in MLX_ONE_PLUS_NORMS):
            stored = bf16_round(1.0 + w)
            tensors[mname] = ("BF16", bf16_bits(stored))
            effective[name] = (stored - np.float32(1.0)).astype(np.float32)
            continue
        if name.endswith("A_log"):
            tensors[mname] = ("F32", w.astype(np.float32))
            effective[name] = w
            continue
        if quantizable(mname) and w.ndim >= 2:
            effective[name] = emit_linear(mname[: -len(".weight")], w)
            continue
        tensors[mname] = ("BF16", bf16_bits(w))
        effective[name] = w
    return tensors, effective, qconfig


def config_json(arch, text_cfg, qconfig=None):
    _, wrapper_type, wrapper_arch, _ = ARCHES[arch]
    if wrapper_type is None:
        cfg = dict(text_cfg)
    else:
        cfg = {"architectures": [wrapper_arch], "model_type": wrapper_type, "text_config": dict(text_cfg),
               "tie_word_embeddings": False, "eos_token_id": text_cfg.get("eos_token_id")}
    if qconfig is not None:
        cfg["quantization"] = qconfig
        cfg["quantization_config"] = qconfig
    return cfg


# ---------------------------------------------------------------------------------------------------
# Shapes without torch (dry run): the state-dict names and shapes transformers uses


def text_state_shapes(cfg):
    H = cfg["hidden_size"]
    V = cfg["vocab_size"]
    L = cfg["num_hidden_layers"]
    shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
    types = cfg.get("layer_types") or ["full_attention"] * L
    qwen35 = cfg["model_type"].startswith("qwen3_5")
    for i in range(L):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = (H,)
        shapes[p + "post_attention_layernorm.weight"] = (H,)
        if types[i] == "linear_attention":
            hk, hv = cfg["linear_num_key_heads"], cfg["linear_num_value_heads"]
            dk, dv = cfg["linear_key_head_dim"], cfg["linear_value_head_dim"]
            conv = 2 * hk * dk + hv * dv
            a = p + "linear_attn."
            shapes[a + "in_proj_qkv.weight"] = (conv, H)
            shapes[a + "in_proj_z.weight"] = (hv * dv, H)
            shapes[a + "in_proj_b.weight"] = (hv, H)
            shapes[a + "in_proj_a.weight"] = (hv, H)
            shapes[a + "conv1d.weight"] = (conv, 1, cfg["linear_conv_kernel_dim"])
            shapes[a + "dt_bias"] = (hv,)
            shapes[a + "A_log"] = (hv,)
            shapes[a + "norm.weight"] = (dv,)
            shapes[a + "out_proj.weight"] = (H, hv * dv)
        else:
            nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
            a = p + "self_attn."
            shapes[a + "q_proj.weight"] = (nh * hd * (2 if qwen35 else 1), H)
            shapes[a + "k_proj.weight"] = (nkv * hd, H)
            shapes[a + "v_proj.weight"] = (nkv * hd, H)
            shapes[a + "o_proj.weight"] = (H, nh * hd)
            shapes[a + "q_norm.weight"] = (hd,)
            shapes[a + "k_norm.weight"] = (hd,)
        m = p + "mlp."
        if cfg.get("num_experts"):
            E, I = cfg["num_experts"], cfg["moe_intermediate_size"]
            shapes[m + "gate.weight"] = (E, H)
            shapes[m + "experts.gate_up_proj"] = (E, 2 * I, H)
            shapes[m + "experts.down_proj"] = (E, H, I)
            if cfg.get("shared_expert_intermediate_size"):
                S = cfg["shared_expert_intermediate_size"]
                shapes[m + "shared_expert.gate_proj.weight"] = (S, H)
                shapes[m + "shared_expert.up_proj.weight"] = (S, H)
                shapes[m + "shared_expert.down_proj.weight"] = (H, S)
                shapes[m + "shared_expert_gate.weight"] = (1, H)
        else:
            I = cfg["intermediate_size"]
            shapes[m + "gate_proj.weight"] = (I, H)
            shapes[m + "up_proj.weight"] = (I, H)
            shapes[m + "down_proj.weight"] = (H, I)
    return shapes


# ---------------------------------------------------------------------------------------------------
# Reference (torch + transformers)


def build_torch_model(arch, text_cfg):
    import torch
    import transformers

    cfg = dict(text_cfg)
    mt = cfg.pop("model_type")
    cfg.pop("architectures", None)
    if arch == "dense":
        conf = transformers.Qwen3_5TextConfig(**cfg)
        cls = transformers.Qwen3_5ForCausalLM
    elif arch == "moe":
        conf = transformers.Qwen3_5MoeTextConfig(**cfg)
        cls = transformers.Qwen3_5MoeForCausalLM
    elif arch == "qwen3":
        conf = transformers.Qwen3Config(**cfg)
        cls = transformers.Qwen3ForCausalLM
    else:
        conf = transformers.Qwen3MoeConfig(**cfg)
        cls = transformers.Qwen3MoeForCausalLM
    assert conf.model_type == mt, (conf.model_type, mt)
    try:
        conf._attn_implementation = "eager"  # plain softmax attention; sdpa would do as well in float32
    except Exception as e:  # noqa: BLE001 - older/newer config APIs
        print(f"note: could not select eager attention ({e}); using the default")
    torch.manual_seed(0)
    model = cls(conf).to(torch.float32).eval()
    return model


def load_effective(model, effective):
    import torch

    sd = model.state_dict()
    missing = [k for k in sd if k not in effective]
    extra = [k for k in effective if k not in sd]
    if missing or extra:
        raise RuntimeError(f"state dict mismatch: missing {missing[:5]} extra {extra[:5]}")
    new = {}
    for k, v in sd.items():
        arr = effective[k]
        if tuple(arr.shape) != tuple(v.shape):
            raise RuntimeError(f"{k}: shape {arr.shape} vs model {tuple(v.shape)}")
        new[k] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    model.load_state_dict(new, strict=True)


def run_reference(model, prompt, num_layers):
    import torch

    out = {}
    with torch.no_grad():
        ids = torch.tensor(prompt, dtype=torch.long)[None]
        for n in PREFILL_LENGTHS:
            r = model(input_ids=ids[:, :n], use_cache=False)
            out[f"prefill_{n}"] = r.logits[0, -1].float().numpy().copy()
        # Greedy decode after a DECODE_PROMPT-token prefill, through the model's own cache.
        r = model(input_ids=ids[:, :DECODE_PROMPT], use_cache=True)
        past = r.past_key_values
        last = r.logits[0, -1].float()
        tokens, logits, gaps = [], [], []
        for _ in range(DECODE_STEPS):
            top2 = torch.topk(last, 2).values
            gaps.append(float(top2[0] - top2[1]))
            t = int(torch.argmax(last))
            tokens.append(t)
            r = model(input_ids=torch.tensor([[t]], dtype=torch.long), past_key_values=past, use_cache=True)
            past = r.past_key_values
            last = r.logits[0, -1].float()
            logits.append(last.numpy().copy())
        out["decode_tokens"] = tokens
        out["decode_logits"] = np.stack(logits)
        out["greedy_min_gap"] = min(gaps)
        # Residual stream after each decoder layer for a short prompt (layer-by-layer diffing).
        captured = {}
        hooks = []
        inner = model.model
        hooks.append(inner.embed_tokens.register_forward_hook(
            lambda m, i, o: captured.__setitem__("embed", o[0].float().numpy().copy())))
        for li, layer in enumerate(inner.layers):
            def hook(m, i, o, li=li):
                t = o[0] if isinstance(o, tuple) else o
                captured[f"layer{li}"] = t[0].float().numpy().copy()
            hooks.append(layer.register_forward_hook(hook))
        model(input_ids=ids[:, :HIDDEN_DUMP_TOKENS], use_cache=False)
        for h in hooks:
            h.remove()
        out["hidden"] = np.stack([captured["embed"]] + [captured[f"layer{i}"] for i in range(num_layers)])
    return out


def write_reference(dirpath, name, prompt, ref, source):
    blobs = []
    offset = 0

    def add(arr):
        nonlocal offset
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        blobs.append(raw)
        start = offset
        offset += len(raw)
        return start

    index = {
        "model": name,
        "generated_by": source,
        "vocab_size": VOCAB,
        "prompt": [int(t) for t in prompt],
        "prefill": [{"tokens": n, "offset": add(ref[f"prefill_{n}"])} for n in PREFILL_LENGTHS],
        "decode": {
            "prompt_tokens": DECODE_PROMPT,
            "tokens": ref["decode_tokens"],
            "offset": add(ref["decode_logits"]),
            "steps": DECODE_STEPS,
            "greedy_min_gap": ref["greedy_min_gap"],
        },
        "hidden": {
            "tokens": HIDDEN_DUMP_TOKENS,
            "entries": int(ref["hidden"].shape[0]),
            "width": int(ref["hidden"].shape[-1]),
            "offset": add(ref["hidden"]),
            "note": "entry 0: embeddings; entry i+1: residual stream after decoder layer i",
        },
    }
    with open(os.path.join(dirpath, "reference.bin"), "wb") as f:
        for b in blobs:
            f.write(b)
    with open(os.path.join(dirpath, "reference.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------


def build_variant(outdir, vname, arch, layout, q, dry_run, seed_base, command):
    text_cfg = ARCHES[arch][0]()
    zero_centred = ARCHES[arch][3]
    shapes = text_state_shapes(text_cfg)
    seed = seed_base + list(ARCHES).index(arch)
    model = None
    if not dry_run:
        model = build_torch_model(arch, text_cfg)
        torch_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        if torch_shapes != shapes:
            # The weights follow the reference implementation; the layouts handle names generically.
            diff = sorted(set(torch_shapes.items()) ^ set(shapes.items()))
            print(f"note {vname}: transformers' state dict differs from the dry-run shapes: {diff[:8]}")
            shapes = torch_shapes
    weights = make_weights(shapes, seed, zero_centred)

    d = os.path.join(outdir, vname)
    os.makedirs(d, exist_ok=True)
    if layout.startswith("hf"):
        files = hf_layout(weights, arch, sharded=layout == "hf-sharded")
        effective = weights
        cfg = config_json(arch, text_cfg)
        meta = {"format": "pt"}
    else:
        tensors, effective, qconfig = mlx_layout(weights, arch, q)
        files = [("model.safetensors", tensors)]
        cfg = config_json(arch, text_cfg, qconfig)
        meta = {"format": "mlx"}
    total = 0
    for fname, tensors in files:
        total += write_safetensors(os.path.join(d, fname), tensors, meta)
    if len(files) > 1:
        index = {"metadata": {"total_size": total},
                 "weight_map": {n: fname for fname, ts in files for n in sorted(ts)}}
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=1, sort_keys=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")

    prompt = np.random.default_rng(1000 + seed).integers(0, VOCAB, PROMPT_LEN).tolist()
    if dry_run:
        return f"{vname}: {total} weight bytes (dry run, no reference)"
    load_effective(model, effective)
    ref = run_reference(model, prompt, text_cfg["num_hidden_layers"])
    import transformers
    import torch
    source = f"{command} (transformers {transformers.__version__}, torch {torch.__version__}, float32 CPU)"
    write_reference(d, vname, prompt, ref, source)
    return f"{vname}: {total} weight bytes, greedy min gap {ref['greedy_min_gap']:.4g}"


def self_check():
    """Packing round trips (runs without torch)."""
    rng = np.random.default_rng(7)
    for bits in (2, 4, 8):
        codes = rng.integers(0, 1 << bits, (3, 64))
        assert (unpack_codes(pack_codes(codes, bits), bits, 64) == codes).all()
    w = bf16_round(rng.standard_normal((4, 128)).astype(np.float32))
    for mode, bits, g in (("affine", 4, 64), ("affine", 8, 32), ("affine", 4, 128), ("mxfp4", 4, 32),
                          ("nvfp4", 4, 16)):
        parts, deq = quantize(w, mode, bits, g)
        err = np.abs(deq - w).max() / np.abs(w).max()
        assert err < (0.3 if bits == 4 else 0.02), (mode, bits, g, err)
        if mode == "affine":
            q = unpack_codes(parts["weight"][1], bits, 128).reshape(4, 128 // g, g)
            s = from_bf16_bits(parts["scales"][1])[..., None]
            b = from_bf16_bits(parts["biases"][1])[..., None]
            assert np.array_equal((s * q.astype(np.float32) + b).reshape(4, 128), deq)
            assert (parts["scales"][1] & 0x8000).any(), "expected some negative scales"
    # word 0 of the 4-bit packing holds elements 0..7 lowest bits first
    assert pack_codes(np.array([[1, 2, 3, 4, 5, 6, 7, 8]]), 4)[0, 0] == 0x87654321
    print("self-check ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--dry-run", action="store_true", help="no torch: weights and configs only")
    ap.add_argument("--only", default="", help="comma-separated variant names")
    ap.add_argument("--seed", type=int, default=20260301)
    args = ap.parse_args()
    self_check()
    command = "python3 tools/tiny_models/make_tiny_models.py --out testdata/tiny"
    os.makedirs(args.out, exist_ok=True)
    failures = 0
    for vname, arch, layout, q in VARIANTS:
        if args.only and vname not in args.only.split(","):
            continue
        try:
            print(build_variant(args.out, vname, arch, layout, q, args.dry_run, args.seed, command), flush=True)
        except Exception:  # keep going: one broken variant must not cost the others
            failures += 1
            print(f"FAILED {vname}", flush=True)
            traceback.print_exc()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
