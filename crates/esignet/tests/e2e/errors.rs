//! The error matrix: each error code of each endpoint provoked from its real cause.
