"""What an operator reads about the fleet: the dashboard (snapshot, live frames, a real
browser), costs and /metrics labels."""
