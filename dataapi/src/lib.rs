//! A local endpoint speaking the RDS Data API wire protocol.
