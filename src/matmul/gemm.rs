//! Exact int8 GEMM (placeholder; being written).
