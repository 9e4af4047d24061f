//! Classification: the signature catalogue, the passive DNS map, and the folding of finished
//! flows into devices and findings. It never parses packets.

pub mod devices;
pub mod dnsmap;
pub mod findings;
pub mod matcher;
pub mod oui;
pub mod policy;
pub mod rules;
