-- 0008_remembered_devices down (SQLite): forget every remembered device.

DROP TRIGGER remembered_devices_user_deleted;

DROP TABLE remembered_devices;
