"""commsite.federation"""
