import './pickle';
import './archive';
import './numpy';
