"""What `make bench` shows of bench/results/latest.json: the tables it prints (tables.py) and the
picture it draws (plot.py)."""
