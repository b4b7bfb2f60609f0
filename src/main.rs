fn main() -> std::process::ExitCode {
    authdemo::run()
}
