"""commsite.serve"""
