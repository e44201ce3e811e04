//! The `sportello` binary: parse the command line, set up logging, run.
#![forbid(unsafe_code)]

/// jemalloc instead of glibc's malloc, which keeps what each thread's arena once held
/// (the index writers and the calibration's folds run on threads of their own): peak
/// RSS of `ask` 123–140 MB with glibc for 31 MB of heap, 54 MB with jemalloc; with
/// 100,000 stored conversations 208–218 MB against 153 MB. (mimalloc was tried: 90 MB
/// and 276 MB.)
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    sportello::cli::main()
}
