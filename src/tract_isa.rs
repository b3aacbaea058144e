//! Which of tract-linalg's kernels tract's own runtime may run, and which gkrnet's products run.
//!
//! tract-linalg 0.23.9's AMX int8 kernels (`avx512amx_mmm_i32_16x16`, `_8x8`) read past the end
//! of a packed A panel when the inner dimension is not a multiple of 64 (one AMX K step). gkrnet's
//! own products pad the inner dimension to 64 (`matmul::gemm`), but tract's runtime, which
//! computes the float (and QDQ int8) reference of an imported ONNX graph, does not: on an AMX
//! machine an int8 EfficientNet-B0 reference run segfaulted in about one run in three (gdb: the
//! fault inside the AMX kernel). So tract's runtime runs without AMX: before tract first probes
//! the CPU, [`keep_amx_out_of_tract_runtime`] adds `-amx-int8,-amx-bf16` to tract's
//! `TRACT_CPU_ISA` knob (after whatever the user's environment sets), and gkrnet's products build
//! their own kernel dispatch, [`gemm_isa`], with AMX put back where the CPU and the kernel allow
//! it. (The AMX bf16 kernel is lossy and opt-in anyway: a float reference should not use it.)

use std::sync::Once;
use tract_linalg::isa::IsaSet;

/// Whether the user's `TRACT_CPU_ISA` names AMX int8 (then gkrnet follows the user's choice).
fn user_names_amx_int8() -> bool {
    std::env::var("TRACT_CPU_ISA")
        .is_ok_and(|s| s.split(',').any(|t| t.trim().trim_start_matches(['+', '-']) == "amx-int8"))
}

/// Takes tract-linalg's AMX kernels out of tract's runtime for the whole process. Idempotent;
/// must run before tract first reads its instruction set (`tract_linalg::isa::native`), so every
/// entry into tract in gkrnet calls it first. A no-op off x86-64.
pub fn keep_amx_out_of_tract_runtime() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let spec = match std::env::var("TRACT_CPU_ISA") {
                Ok(user) if !user.trim().is_empty() => format!("{user},-amx-int8,-amx-bf16"),
                _ => "-amx-int8,-amx-bf16".to_string(),
            };
            tract_linalg::knobs::TRACT_CPU_ISA.set(Some(spec));
        }
    });
}

/// The instruction set gkrnet's own int8 products dispatch on: tract's (without AMX, see
/// [`keep_amx_out_of_tract_runtime`]) plus AMX int8 where the CPU and the OS allow it, unless
/// the user's `TRACT_CPU_ISA` says otherwise about it. gkrnet pads every product's inner
/// dimension to 64, which keeps the AMX kernels within their panels.
#[cfg_attr(not(feature = "gemm"), allow(dead_code))]
pub(crate) fn gemm_isa() -> IsaSet {
    keep_amx_out_of_tract_runtime();
    #[allow(unused_mut)]
    let mut isa = tract_linalg::isa::native();
    #[cfg(target_arch = "x86_64")]
    if !user_names_amx_int8() && tract_linalg::x86_64::amx::has_amx_int8() {
        isa = isa.with(tract_linalg::isa::Isa::X86_64AmxInt8);
    }
    isa
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use tract_linalg::isa::Isa;

    /// tract's runtime never sees AMX; gkrnet's products see it exactly where the CPU has it.
    #[test]
    fn tract_runtime_has_no_amx_and_gemm_has_it_where_the_cpu_does() {
        let ours = gemm_isa();
        let tract = tract_linalg::isa::native();
        assert!(!tract.has(Isa::X86_64AmxInt8));
        assert!(!tract.has(Isa::X86_64AmxBf16));
        #[cfg(target_arch = "x86_64")]
        if !user_names_amx_int8() {
            assert_eq!(ours.has(Isa::X86_64AmxInt8), tract_linalg::x86_64::amx::has_amx_int8());
        }
        let _ = ours;
    }
}
