//! Placeholder replaced by the receipt module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("receipt")]
pub struct ReceiptError;
