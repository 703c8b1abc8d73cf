//! The `glass-examples` package: it owns the runnable programs in `examples/` and the
//! integration tests in `tests/`. The library itself is the `glass` crate in `runtime/`.
