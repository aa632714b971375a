"""commsite.sidecar"""
