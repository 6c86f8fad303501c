"""The version each pin should carry for a release."""
