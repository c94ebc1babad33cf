"""Read-side helpers of the contracts area, named for what they return: none yet."""
