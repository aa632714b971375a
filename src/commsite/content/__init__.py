"""commsite.content"""
