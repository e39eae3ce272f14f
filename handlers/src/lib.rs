//! Shared start-up for the Lambda entrypoints: settings from the environment,
//! SDK clients built once per execution environment.
