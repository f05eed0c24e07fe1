//! Port numbers reserved across processes for code that must bind a number itself.

use crate::Error;

/// A port number that no other isolated test receives while this value lives.
#[derive(Debug)]
pub struct ReservedPort {
    port: u16,
}

impl ReservedPort {
    /// Reserves a port number.
    ///
    /// # Errors
    ///
    /// Fails when no number can be reserved.
    pub fn reserve() -> Result<Self, Error> {
        // Placeholder until the band + lock-file reservation lands (issue 3).
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::io("cannot find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the address", e))?
            .port();
        Ok(ReservedPort { port })
    }

    /// The reserved number.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}
