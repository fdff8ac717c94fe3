"""Emulated target kernels: the real aarch64 runtime builds under qemu user-mode, for numerical parity only."""
