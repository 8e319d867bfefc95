//! The `tidings` binary: everything is in the library; this only hands over.

fn main() -> std::process::ExitCode {
    tidings::cli::main()
}
