//! The `fabplan` binary: parse arguments, run, map the outcome to an exit code.
//! All logic lives in the library (`fabplan::cli::run`).

fn main() -> std::process::ExitCode {
    fabplan::cli::main_entry()
}
