"""`meshops review`: a pull request's change of dist/ in the mesh's own terms (run.py)."""
