import './pickle';
