//! One module per page.

mod editor;
mod gallery;
mod home;
mod image_detail;
pub(crate) mod not_found;
mod provenance;

pub use editor::EditorPage;
pub use gallery::GalleryPage;
pub use home::HomePage;
pub use image_detail::ImageDetailPage;
pub use not_found::NotFoundPage;
