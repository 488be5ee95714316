//! esignet-web (being written).
