//! The apps domain: installed apps, the app catalog and Docker (`app.*`, `catalog.*`, `docker.*`).
//!
//! State: `app` (installed apps and their lifecycle), `app_catalog` (the catalog of installable
//! apps), `docker` (Docker's configuration and status).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `app_methods` (`app.*`),
//! `app_catalog_methods` (`catalog.*`, `app.available`), `docker_methods` (`docker.*`).

pub(crate) mod app;
pub(crate) mod app_catalog;
pub(crate) mod app_catalog_methods;
pub(crate) mod app_methods;
pub(crate) mod docker;
pub(crate) mod docker_methods;
