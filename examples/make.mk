demo: $(STAMP)
	$(VPY) examples/demo.py
