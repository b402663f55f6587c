"""Developer tools of the authsig source repository (not part of the wheel)."""
