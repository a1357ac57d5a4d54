"""Attachments of a case: photos of the site, a penalty notice with a reply, a document with an
appeal (docs/attachments.md)."""
