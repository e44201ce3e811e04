//! The `sportello` binary: parse the command line, set up logging, run.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sportello::cli::main()
}
