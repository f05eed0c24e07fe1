use isolate::isolated;

struct Custom;

impl std::process::Termination for Custom {
    fn report(self) -> std::process::ExitCode {
        std::process::ExitCode::SUCCESS
    }
}

// A return type the parent of a fresh process cannot produce: the error is on the type.
#[isolated(fresh_process)]
fn custom_return() -> Custom {
    Custom
}

fn main() {}
