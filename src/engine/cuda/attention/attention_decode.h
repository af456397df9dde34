#pragma once
// The streaming decode attention (attention_decode.cu), used by launch_attention (attention.cu) for the
// layouts it supports; the older split-KV kernel in attention.cu stays the fallback.
#include <cstddef>
#include <cstdint>

#include "engine/cuda/attention/attention.h"

namespace hearth::engine::cuda {

bool attention_decode_stream_supports(const AttentionLaunch& p);  // needs p.workspace of the size below
size_t attention_decode_stream_workspace_bytes(int heads, int head_dim, int64_t capacity, int64_t n);
void launch_attention_decode_stream(const AttentionLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
