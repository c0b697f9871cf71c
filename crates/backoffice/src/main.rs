fn main() -> std::process::ExitCode {
    guichet_backoffice::cli::run()
}
