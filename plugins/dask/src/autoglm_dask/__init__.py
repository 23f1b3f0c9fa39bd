"""autoglm-dask: node attempts on a Dask cluster (``--executor dask``)."""
