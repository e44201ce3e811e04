//! The `sportello` binary: parse the command line, set up logging, run.
#![forbid(unsafe_code)]

/// jemalloc instead of glibc's malloc, which keeps what each thread's arena once held
/// (the index writers and the calibration's folds run on threads of their own): the
/// peak RSS it saves is measured in the README ("Memory").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    sportello::cli::main()
}
