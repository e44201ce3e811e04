//! Pure rules of the care workflow, functions of `now` with no I/O: opening hours and
//! holidays (when people are in, when they are back, business time between two
//! instants), and wait estimates. The service and the report apply them.

mod eta;
mod holidays;
mod hours;
mod sla;

pub use eta::{DEFAULT_WAIT, Estimate, HISTORY};
pub use holidays::{easter_sunday, italian_holidays};
pub use hours::{Holidays, Hours, HoursError, HoursSettings};
pub use sla::{SlaState, sla_state};

#[cfg(test)]
mod tests;
