-- 0008_remembered_devices down (PostgreSQL): forget every remembered device.

DROP TABLE remembered_devices;
