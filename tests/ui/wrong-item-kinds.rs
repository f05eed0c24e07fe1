use isolate::isolated;

// Items that used to pass through unchanged, the attribute silently dropped.
#[isolated(port)]
const LIMIT: u8 = 1;

#[isolated(port)]
const _: () = ();

trait Server {
    #[isolated(port)]
    fn serve();
}

extern "C" {
    #[isolated(port)]
    fn external();
}

// rustc's own refusals, before the attribute runs.
fn main() {
    let closure = #[isolated(port)]
    || {};
    closure();
}
