//! hotline12345: a contact-center backend for a provincial 12345 government service hotline.
