"""Access reviews: policies, campaigns and items (see the reviews issue)."""
