"""Rankings of the units and the notices (通报) drafted from them."""
