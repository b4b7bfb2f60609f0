//! The `authdemo` command: everything lives in the library, see [`authdemo::run`].

fn main() -> std::process::ExitCode {
    sigpipe::reset();
    authdemo::run()
}
