# Apache mod_wsgi entry point: adapt the process list and the configuration path.
from pywps import Service
from pywps.processes import example_processes  # replace with your own processes

application = Service(processes=example_processes(), cfgfiles=["/etc/pywps.cfg"])
