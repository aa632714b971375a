"""commsite.build"""
