"""Pages that show text from user data: badly decoded strings, control characters, emoji."""
