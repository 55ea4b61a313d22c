//! A faithful local emulator of Microsoft Entra ID and Azure Resource Manager, for tests and demos.
#![forbid(unsafe_code)]
